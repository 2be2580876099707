"""What leaves the program: the analysis files and the report content (the PDF is gui's)."""
