<%-- D = 1 s, in a request thread of the servlet container (Tomcat's or Jetty's pool). --%><%
  Thread.sleep(1000);
%>slept <%= Thread.currentThread().getName() %>
