"""Qt widgets of RNN Studio (PySide6 + pyqtgraph; no torch, no training logic)."""
