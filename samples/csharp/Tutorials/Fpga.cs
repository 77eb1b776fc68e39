using WeightScope.Export;
using WeightScope.Printing;
using WeightScope.TorchSharp;

namespace Tutorials;

/// <summary>
/// Fourth tutorial (weights for an FPGA): Net's <c>depth_conv.weight[0,0,0,:].reshape(-1,1)</c> printed as torch prints
/// it; a GRU's stacked weights split into their gates (<c>w_ir, w_iz, w_in = gru.weight_ih_l0.chunk(3)</c>), each
/// written in signed fixed point to a Verilog <c>$readmemh</c> file for block RAM.
/// </summary>
internal static class Fpga
{
    public static int Run(string fixtures, string outDir, string q)
    {
        Directory.CreateDirectory(outDir);
        var net = new Net();
        net.LoadWeights(Path.Combine(fixtures, "fpga_net.pth"));
        var gruNet = new GruNet();
        gruNet.LoadWeights(Path.Combine(fixtures, "fpga_gru.pth"));
        #region readme
        using var param = net.AsModelFile();                              // param = net.state_dict()
        var column = param.Tensors["depth_conv.weight"].Slice("[0,0,0,:]").Reshape(-1, 1);
        Console.WriteLine(TensorFormatter.Format(column));                // print(param['depth_conv.weight'][0,0,0,:].reshape(-1,1))

        using var gru = gruNet.AsModelFile();
        GateSplitResult split = GateSplit.Run(gru, new GateSplitOptions());   // w_ir | w_iz | w_in, views
        var encoding = new ExportEncoding { Fixed = QFormat.Parse(q) };   // Q3.12: sign, 3 integer, 12 fraction bits
        foreach (var gate in split.Split.SelectMany(s => s.Outputs).Select(n => split.Tensors.First(t => t.Name == n)))
        {
            string file = Path.Combine(outDir, gate.Name.Replace('.', '_') + MemFile.Extension);
            ExportTensor e = ExportTensor.Create(gate, encoding);
            using (var writer = new StreamWriter(file) { NewLine = "\n" })
                MemFile.Write(e, writer, new MemoryFileOptions { Source = "fpga_gru.pth" });   // one hex word per line
            Console.WriteLine($"{gate.Name} {gate.Shape} -> {Path.GetFileName(file)}");
        }
        #endregion
        return 0;
    }
}
