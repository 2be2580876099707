"""Brain maps: clinical seeds, live seed maps, global connectivity, display grid, NIfTI export."""
