# The one setting changed from Unicorn's defaults (worker_processes 1): three worker processes.
worker_processes 3
