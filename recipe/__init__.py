"""verl recipes shipped by this project."""
