"""How a notification leaves the system: email (SMTP, or .eml files with no SMTP host)."""
