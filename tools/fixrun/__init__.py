"""The engineer's loop: run in the sandbox, diagnose, repair with a LibCST edit, run again (bounded)."""
