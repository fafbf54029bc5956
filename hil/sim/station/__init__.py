"""The virtual charge station: a faithful OCPP 1.6J charge point on the virtual bench."""
