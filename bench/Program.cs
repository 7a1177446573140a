using MixLens.Bench.Kernels;
using MixLens.Bench.Peak;
using MixLens.Bench.Peers;

// Stopwatch runners (own modes) and BenchmarkDotNet (everything else):
//   peers         side-by-side against ONNX Runtime (bench/Peers/PeersCommand.cs)
//   peers-worker  the MixLens child process the peers runner drives (not for direct use)
//   ort-worker    the ONNX Runtime (C#, Microsoft.ML.OnnxRuntime 1.32.0) child process it drives (not for direct use)
//   peak          FMA peak per ISA (bench/Peak/PeakCommand.cs)
//   gemm          GEMM suite on the encoder shapes, % of peak (bench/Kernels/GemmSuite.cs)
//   ukernel       the micro-kernel on L1-resident operands against the FMA loop, round by round (bench/Kernels/MicroKernelPhases.cs)
//   quick         quick Stopwatch runs of the GEMM, forward, profile, peak, pool and Value Zeroing (bench/Kernels/QuickBench.cs)
//   stopwatch     attention flow and Value Zeroing timings (bench/Analysis/StopwatchRunner.cs)
//   gradients     backward, integrated gradients, attattr, chefer and HTA against the forward (bench/Analysis/GradientStopwatch.cs)
//   gpu           GPU parity and timings, ILGPU backend (bench/Gpu/GpuCheckCommand.cs; bench/gpu-check.sh runs it)
//   evaluate-profile  where evaluate's time goes, phase by phase (bench/Analysis/EvaluateProfile.cs)
//   tokenizers    WordPiece, byte-level BPE and Unigram against FastBertTokenizer / Microsoft.ML.Tokenizers (bench/Tokenizers/TokenizerBench.cs)
return args.FirstOrDefault() switch
{
    "peers" => PeersCommand.Run(args[1..]),
    "peers-worker" => MixLensWorker.Run(args[1..]),
    "ort-worker" => OrtWorker.Run(args[1..]),
    "peak" => PeakCommand.Run(args[1..]),
    "gemm" => GemmSuite.Run(args[1..]),
    "ukernel" => MicroKernelPhases.Run(args[1..]),
    "quick" => RunQuick(args),
    "stopwatch" => MixLens.Bench.StopwatchRunner.Run(args[1..]),
    "gradients" => MixLens.Bench.GradientStopwatch.Run(args[1..]),
    "gpu" => MixLens.Bench.Gpu.GpuCheckCommand.Run(args[1..]),
    "tokenizers" => MixLens.Bench.Tokenizers.TokenizerBench.Run(args[1..]),
    "evaluate-profile" => MixLens.Bench.EvaluateProfile.Run(args[1..]),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(MixLens.Bench.SharedPaths).Assembly).Run(args);
    return 0;
}

static int RunQuick(string[] args)
{
    MixLens.Bench.QuickBench.Run(args);
    return 0;
}
