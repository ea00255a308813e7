<%-- Answers at once: the readiness check, and it compiles the JSP machinery before find-pool fires. --%>fast
