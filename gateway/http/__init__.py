"""HTTP plumbing shared by both API families: errors, auth, forwarded
headers, streaming uploads and ranged downloads."""
