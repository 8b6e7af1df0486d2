"""The sample web: realistic local Chinese city-government sites with ground truth (the test world)."""
