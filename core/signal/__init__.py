"""From voxels to connectivity: masking, ROI reduction, denoising, correlation."""
