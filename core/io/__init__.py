"""Reading inputs (NIfTI, fMRIPrep, time-series tables, saved reviews); safe writes."""
