using MixLens.Fuzz;
using SharpFuzz;

// mixlens-fuzz list                     the targets
// mixlens-fuzz fuzz TARGET              serve AFL++ (afl-fuzz ... -- dotnet mixlens-fuzz.dll fuzz TARGET); see run.sh
// mixlens-fuzz replay TARGET FILE|DIR…  run inputs through TARGET once each and say what happened (triage)
if (args is ["list"])
{
    foreach (var t in FuzzTargets.All) Console.WriteLine($"{t.Name,-16} {t.Description}");
    return 0;
}
if (args is ["fuzz", var name])
{
    var target = FuzzTargets.Find(name);
    // Each input runs in a child process that SharpFuzz restarts after a crash, so that even a stack overflow (which
    // .NET cannot catch) is recorded as a crash of that input.
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target.Run(buffer.ToArray());
    });
    return 0;
}
if (args is ["replay", var replayName, .. var paths] && paths.Length > 0)
{
    var target = FuzzTargets.Find(replayName);
    var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
    int failed = 0;
    foreach (var file in files)
    {
        try
        {
            target.Run(File.ReadAllBytes(file));
            Console.WriteLine($"ok    {file}");
        }
        catch (Exception e)
        {
            failed++;
            Console.WriteLine($"FAIL  {file}: {e.GetType().FullName}: {e.Message}");
            Console.WriteLine(e.StackTrace);
        }
    }
    Console.WriteLine($"{files.Count - failed} passed, {failed} failed");
    return failed == 0 ? 0 : 1;
}
Console.Error.WriteLine("usage: mixlens-fuzz list | fuzz TARGET | replay TARGET FILE|DIR...");
return 2;
