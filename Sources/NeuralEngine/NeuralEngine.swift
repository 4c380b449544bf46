// NeuralEngine: filled by its issue.
