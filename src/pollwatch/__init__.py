"""pollwatch: election observation and count-protocol verification."""
