// Exports a GRU's weights for FPGA block RAM: each stacked weight and bias split into its gates (PyTorch r, z, n),
// quantized to signed fixed point, one Verilog $readmemh file per gate.
// Python: w_ir, w_iz, w_in = gru.weight_ih_l0.chunk(3); then round(w * 2**12), two's complement, hex, by hand.
// Run:    dotnet run --project samples/csharp/ExportGruGates -- [MODEL] [OUT_DIR] [Qm.n]
//         (default tests/fixtures/pytorch/gru_whole.pt artifacts/samples/bram Q3.12: artifacts/ is git-ignored)
// The same files as: weightscope export MODEL 'gru.*' --split-gates --to mem --fixed Q3.12 --out OUT_DIR
using WeightScope;
using WeightScope.Export;

string path = args.Length > 0 ? args[0] : "tests/fixtures/pytorch/gru_whole.pt";
string outDir = args.Length > 1 ? args[1] : Path.Combine("artifacts", "samples", "bram");
string q = args.Length > 2 ? args[2] : "Q3.12";

#region readme
using var model = ModelFile.Open(path);
GateSplitResult split = GateSplit.Run(model, new GateSplitOptions());   // views, no copies
var gates = split.Split.Where(s => s.Cell == RecurrentCell.Gru)
    .SelectMany(s => s.Outputs).Select(n => split.Tensors.First(t => t.Name == n)).ToList();
var encoding = new ExportEncoding { Fixed = QFormat.Parse(q) };        // Q3.12: sign + 3 integer + 12 fraction bits
var fileNames = CIdentifiers.Assign(gates.Select(g => g.Name));        // gru.weight_ir_l0 -> gru_weight_ir_l0
Directory.CreateDirectory(outDir);
for (int i = 0; i < gates.Count; i++)
{
    ExportTensor e = ExportTensor.Create(gates[i], encoding);
    using var file = new StreamWriter(Path.Combine(outDir, fileNames[i] + MemFile.Extension)) { NewLine = "\n" };
    MemFile.Write(e, file, new MemoryFileOptions { Source = Path.GetFileName(path) });   // one hex word per line
    double error = e.Quantized!.Report.MaxAbsError;                         // largest |w - word / 2^fraction_bits|
    Console.WriteLine($"{gates[i].Name} [{string.Join(", ", e.Shape)}] -> {fileNames[i]}.mem  max|err| {error:G4}");
}
#endregion
