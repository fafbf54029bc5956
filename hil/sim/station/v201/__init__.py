"""The virtual station's OCPP 2.0.1 front-end (lab config ``dut.ocpp: "2.0.1"``)."""
