namespace MixLens.Fuzz;

/// <summary>
/// An input broke the fuzzing rule in a way no exception type shows by itself: a documented exception whose message
/// does not name the file, or a parse that allocated far more than the input's size justifies. Thrown by the targets so
/// that the fuzzer records the input as a crash, like any undocumented exception escaping a parser.
/// </summary>
public sealed class FuzzRuleViolation(string message, Exception? inner = null) : Exception(message, inner);
