if (args.Length > 0 && args[0] == "quick") MixLens.Bench.QuickBench.Run(args);
else BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
