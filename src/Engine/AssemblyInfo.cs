using System.Runtime.CompilerServices;

// The GPU backend (src/Gpu) implements EncoderBackend, whose layer-stack entry point takes the engine's internal
// StepHooks and ForwardWorkspace; nothing else of the engine's internals is used there.
[assembly: InternalsVisibleTo("MixLens.Gpu")]
