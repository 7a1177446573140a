using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Gpu;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Gpu;

/// <summary>
/// One ILGPU CPU accelerator for all the GPU tests (kernels compile once): a small simulated device (warp 4, 8 threads
/// a group, one multiprocessor, Parallel mode) so that its spinning threads stay few, disposed when the collection ends.
/// </summary>
public sealed class SimulatorFixture : IDisposable
{
    public GpuEncoderBackend Backend { get; } = GpuEncoderBackend.CreateCpuSimulator(warpSize: 4, warpsPerGroup: 2);

    /// <summary>A fresh encoder of a shared model running on the simulator (never the cached encoders other tests share).</summary>
    public BertEncoder Encoder(string model)
    {
        string dir = SharedData.Models(model);
        var config = EncoderConfig.Load(Path.Combine(dir, "config.json"));
        var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        return new BertEncoder(config, BertWeights.Load(file, config)) { Backend = Backend };
    }

    public void Dispose() => Backend.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SimulatorCollection : ICollectionFixture<SimulatorFixture>
{
    public const string Name = "ILGPU CPU accelerator";
}
