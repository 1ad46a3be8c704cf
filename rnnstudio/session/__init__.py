"""Qt session: the training worker thread and the run state machine (QtCore only, no torch)."""
