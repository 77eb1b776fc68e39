using System.CommandLine;

namespace WeightScope.Cli.Commands;

/// <summary>The command tree: every verb, the root's recursive reader flags, and the numeric options' range checks.</summary>
internal static class CliRoot
{
    public static Command Create()
    {
        // A plain Command named "weightscope" rather than RootCommand, whose name is the process's (WeightScope.Cli when run as
        // `dotnet WeightScope.Cli.dll`, as the wrapper script and dotnet tool shims do); help and version added as RootCommand would.
        var root = new Command("weightscope", """
            WeightScope: read the weights of trained neural networks (PyTorch, safetensors, NumPy…) without Python.

            Examples:
              weightscope list model.pth
              weightscope show model.pth fc1.weight --precision 2
              weightscope tree whole_model.pt
              weightscope info model.safetensors --json
              weightscope stats model.safetensors
              weightscope health model.pth
              weightscope diff before.pt after.pt --only-different
              weightscope hist model.pth fc1.weight --out fc1.png
              weightscope convert model.pt model.safetensors --dtype float16
              weightscope edit model.pt edited.pt --zero 'fc2.*'
              weightscope export model.pth fc1.weight --to mem --fixed Q3.12 --out rtl/
              weightscope scan downloaded.pt
              weightscope serve model.pth
              weightscope serve before.pt after.pt --port 9000
            """)
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
            ListCommand.Create(),
            ShowCommand.Create(),
            TreeCommand.Create(),
            InfoCommand.Create(),
            StatsCommand.Create(),
            HealthCommand.Create(),
            HistCommand.Create(),
            HeatmapCommand.Create(),
            DiffCommand.Create(),
            ConvertCommand.Create(),
            EditCommand.Create(),
            ExportCommand.Create(),
            ScanCommand.Create(),
            ServeCommand.Create(),
        };

        // The reader flags (limits, --allow-external-paths) apply to every verb that opens files; Common.Open reads them from the parse.
        foreach (var (_, option) in Common.LimitOptions) root.Options.Add(option);
        root.Options.Add(Common.AllowExternalPathsOption);
        OptionRanges.Apply(root);
        return root;
    }
}
