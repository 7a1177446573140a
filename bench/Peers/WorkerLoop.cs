using System.Text.Json.Nodes;

namespace MixLens.Bench.Peers;

/// <summary>
/// The child side of the peers protocol (<see cref="WorkerClient"/>), shared by <see cref="MixLensWorker"/> and
/// <see cref="OrtWorker"/>: one JSON command per stdin line, one reply line per command, starting with
/// <see cref="WorkerClient.ReplyPrefix"/>. An exception in a command becomes an <c>{"error": …}</c> reply, and the loop
/// goes on; <c>{"op":"quit"}</c> releases the engine and ends it.
/// </summary>
public static class WorkerLoop
{
    /// <param name="handle">runs one command (its "op" and the whole object) and returns the reply; null for an
    /// unknown op.</param>
    /// <param name="quit">releases what the worker holds, on "quit" or at the end of input.</param>
    public static int Serve(Func<string, JsonObject, JsonObject?> handle, Action quit)
    {
        string? line;
        while ((line = Console.ReadLine()) != null)
        {
            var command = JsonNode.Parse(line)!.AsObject();
            string op = (string?)command["op"] ?? "";
            if (op == "quit")
            {
                quit();
                Reply([]);
                return 0;
            }
            JsonObject reply;
            try
            {
                reply = handle(op, command) ?? new JsonObject { ["error"] = $"unknown op {op}" };
            }
            catch (Exception e)
            {
                reply = new JsonObject { ["error"] = e.ToString() };
            }
            Reply(reply);
        }
        quit();
        return 0;
    }

    static void Reply(JsonObject reply)
    {
        Console.Out.WriteLine(WorkerClient.ReplyPrefix + reply.ToJsonString());
        Console.Out.Flush();
    }
}
