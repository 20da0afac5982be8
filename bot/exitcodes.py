"""The exit codes of every ``etown-bot`` command (an interface: scripts and systemd rely on them)."""

EXIT_OK = 0  # done
EXIT_PROBLEMS = 1  # ran, and found or met problems (errors in faq/, a reply not delivered, a stop on error)
EXIT_USAGE = 2  # could not run as asked: bad arguments, bad configuration, a refused token
