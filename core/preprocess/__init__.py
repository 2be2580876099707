"""From the scanner's DICOM to fMRIPrep-style derivatives.

``import-dicom`` (:mod:`core.preprocess.dicom_import`) turns two visit folders into
an anonymised BIDS dataset with dcm2niix; ``preprocess``
(:mod:`core.preprocess.engines`) runs fMRIPrep on it when the site has it, or the
labelled quick path.  Nothing here imports Qt.
"""
