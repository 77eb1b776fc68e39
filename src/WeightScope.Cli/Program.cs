using System.CommandLine;
using System.Runtime.InteropServices;
using WeightScope.Cli.Commands;
using WeightScope.Writing;

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

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var e in parse.Errors) Console.Error.WriteLine($"weightscope: {e.Message}");
    Console.Error.WriteLine("Run 'weightscope --help' or 'weightscope <verb> --help' for usage.");
    return ExitCode.Usage;
}
Common.UseLimitsFrom(parse);
// Ctrl-C, SIGTERM and a closed terminal end the process as before, but first delete the temporary file of a write in
// progress (as large as the model), which the rename would otherwise have consumed.
var interruptions = new List<PosixSignalRegistration>();
foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
{
    try { interruptions.Add(PosixSignalRegistration.Create(signal, _ => TempFiles.DeleteActive())); }
    catch (PlatformNotSupportedException) { }
}
// Exceptions are mapped to exit codes by each verb (Common.Run), never by System.CommandLine's handler (exit 1).
// On a thread with a known, large stack: readers and printers of nested values recurse once per level, up to the
// largest --max-depth / --max-dims accepted (ReaderLimits.DepthCeiling), and a stack overflow would end the process.
int exitCode = WeightScope.Threading.LargeStack.Run(() => parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
GC.KeepAlive(interruptions);  // a collected registration would unregister its handler mid-write
return exitCode;
