"""Music recommender (Q1): data, models, offline evaluation, ANN index, versioned artifacts."""
