"""The DC meter role: the station's own signing (Eichrecht) DC meter, read directly."""
