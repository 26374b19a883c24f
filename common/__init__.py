"""Code shared by the action server, the back office and the channels: settings and the city pack."""
