using MixLens.Engine.Model;
using MixLens.Gpu;
using MixLens.Tests.Cli;

namespace MixLens.Tests.Gpu;

/// <summary>--device: parsing, the no-GPU error, the auto fallback, on the library and through the CLI. CI machines
/// have no GPU; on a machine with a CUDA driver the tests check the other branch instead.</summary>
public class DeviceSelectionTests
{
    static bool CudaDriver => CudaLibrary.DriverPresent();

    [Theory]
    [InlineData("cpu", ComputeDevice.Cpu)]
    [InlineData("CUDA", ComputeDevice.Cuda)]
    [InlineData(" auto ", ComputeDevice.Auto)]
    public void Parse_KnownNames_GiveDevice(string name, ComputeDevice expected) => Assert.Equal(expected, Devices.Parse(name));

    [Fact]
    public void Parse_UnknownName_ThrowsListingChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => Devices.Parse("tpu"));
        Assert.Contains("choose cpu, cuda or auto", e.Message);
    }

    [Fact]
    public void Open_Cpu_IsSimdBackend() => Assert.Same(EncoderBackend.Simd, Devices.Open(ComputeDevice.Cpu));

    [Fact]
    public void Open_CudaWithoutDevice_ThrowsSaying()
    {
        if (CudaDriver)
        {
            var backend = Devices.Open(ComputeDevice.Cuda);
            Assert.IsType<GpuEncoderBackend>(backend);
            ((IDisposable)backend).Dispose();
            return;
        }
        var e = Assert.Throws<GpuDeviceNotFoundException>(() => Devices.Open(ComputeDevice.Cuda));
        Assert.Contains("no CUDA device found", e.Message);
        Assert.Contains("libcuda", e.Message);
    }

    [Fact]
    public void Open_AutoWithoutDevice_FallsBackToCpuWithOneLine()
    {
        var notice = new StringWriter();
        var backend = Devices.Open(ComputeDevice.Auto, notice);
        if (CudaDriver)
        {
            Assert.IsType<GpuEncoderBackend>(backend);
            ((IDisposable)backend).Dispose();
            return;
        }
        Assert.Same(EncoderBackend.Simd, backend);
        var lines = notice.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("running on the CPU", lines[0]);
    }

    [Fact]
    public void Cli_DeviceCudaWithoutDevice_OneErrorLine()
    {
        if (CudaDriver) return;   // the GPU branch is covered by bench/gpu-check.sh
        CliHarness.RunUserError("no CUDA device found", "embed", "--model", CliHarness.Model("bert-mlm-random"), "--text", "a fox", "--device", "cuda");
    }

    [Fact]
    public void Cli_DeviceAuto_SameOutputAsCpuAndOneNotice()
    {
        string[] args = ["embed", "--model", CliHarness.Model("bert-mlm-random"), "--text", "the quick brown fox"];
        var cpu = CliHarness.RunOk([.. args, "--device", "cpu"]);
        var auto = CliHarness.Run([.. args, "--device", "auto"]);
        Assert.Equal(0, auto.ExitCode);
        if (CudaDriver) return;
        Assert.Equal(cpu.Stdout, auto.Stdout);
        Assert.Single(auto.StderrLines);
        Assert.Contains("--device auto: no CUDA device found", auto.StderrLines[0]);
    }

    [Fact]
    public void Cli_UnknownDevice_UsageError() =>
        CliHarness.RunUsageError("tpu", "embed", "--model", CliHarness.Model("bert-mlm-random"), "--text", "a fox", "--device", "tpu");
}
