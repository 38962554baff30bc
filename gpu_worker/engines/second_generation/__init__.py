"""The second_generation capability: ``classical`` (CPU: dlib + OpenCV) and ``neural`` (torch) engines."""
