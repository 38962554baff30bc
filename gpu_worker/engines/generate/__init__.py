"""The generate capability: ``classical`` (CPU: dlib + OpenCV) and ``neural`` (torch) engines, one interface."""
