if (args is ["stopwatch", ..]) return MixLens.Bench.StopwatchRunner.Run(args[1..]);
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
