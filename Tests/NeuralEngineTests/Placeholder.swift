import Testing
@testable import NeuralEngine
