"""What a run leaves behind: its warehouse rows, its summaries and its picture."""
