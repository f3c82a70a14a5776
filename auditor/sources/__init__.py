"""Where policies come from: files (file.py) and AWS (aws.py)."""
