"""The bridge's own public web routes, served by the appservice's HTTP server."""
