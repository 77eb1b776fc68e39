using System.CommandLine;
using System.Runtime.CompilerServices;
using WeightScope.Web;

namespace WeightScope.Cli.Commands;

/// <summary>
/// <c>weightscope serve FILE [FILE2] [--port N]</c>: the local web viewer (WeightScope.Web) on 127.0.0.1. ASP.NET is
/// loaded only when this verb runs: nothing ASP.NET-typed is touched before <see cref="Serve"/>.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var file2 = new Argument<string?>("file2") { Description = "A second weight file: compare it with the first (as weightscope diff)", Arity = ArgumentArity.ZeroOrOne };
        var compare = new DiffOptionsCli();
        var port = new Option<int?>("--port", "-p") { Description = $"Port on 127.0.0.1 (default 8080, or a free port when 8080 is taken; 0: any free port)" };
        var cmd = new Command("serve", """
            Browse a weight file in a web page served on 127.0.0.1 (this machine only): module tree with parameter
            counts, a searchable and sortable tensor table, and per tensor its statistics, histogram, heatmap and values
            (torch print options). With two files, a compare view shows what changed (as weightscope diff).
            Only what the page shows is read; the server reads no file but the ones named here. Ctrl+C stops it.

            Examples:
              weightscope serve model.pth
              weightscope serve before.pt after.pt --port 9000
              weightscope serve dp_checkpoint.pt model.pt --map 's/^module\.//' --atol 1e-6

            With two files, --map, --no-auto-map, --atol, --rtol and --equal-nan pair and compare them as in weightscope diff.
            """) { file, file2, port };
        compare.AddTo(cmd);
        cmd.SetAction(p => Common.Run(() =>
        {
            int? requested = p.GetValue(port);
            if (requested is < 0 or > 65535) throw new UsageException($"--port must be from 0 to 65535 (got {requested})");
            var files = new List<string> { p.GetValue(file)! };
            if (p.GetValue(file2) is { } second) files.Add(second);
            foreach (var f in files) Common.RequireModelPath(f);
            return Serve(files, requested, compare.Read(p));
        }));
        return cmd;
    }

    // Kept out of the action's lambda so that the CLI's other verbs never load WeightScope.Web's ASP.NET types.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Serve(List<string> files, int? requested, Analysis.DiffOptions diff)
    {
        ViewerServer server;
        try
        {
            server = ViewerServer.Start(files, requested ?? ViewerServer.DefaultPort, Common.ReaderOptions(), diff);
        }
        catch (PortInUseException e) when (requested is not null)
        {
            return Common.Fail($"{e.Message}: choose another with --port N (0: any free port)", ExitCode.Usage);
        }
        catch (PortInUseException)
        {
            server = ViewerServer.Start(files, 0, Common.ReaderOptions(), diff);
            Console.Error.WriteLine($"note: port {ViewerServer.DefaultPort} is in use; serving on port {server.Port} instead");
        }
        using (server)
        {
            string names = string.Join(" and ", files);
            Console.Out.WriteLine($"WeightScope serving {names} at {server.Url} (Ctrl+C to stop)");
            Console.Out.Flush();
            server.WaitForShutdown();
        }
        return ExitCode.Ok;
    }
}
