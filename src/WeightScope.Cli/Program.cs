using System.CommandLine;
using System.Runtime.InteropServices;
using WeightScope.Cli.Commands;
using WeightScope.Writing;

var root = CliRoot.Create();

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
