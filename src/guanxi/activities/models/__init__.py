"""activities models; each module owns one part of the domain and is imported here so Django finds it."""
