// The Python tutorials in C#, with TorchSharp for the live modules and WeightScope for reading, printing, analysing
// and exporting their weights: one verb per tutorial (samples/csharp/README.md shows each next to its Python).
// Run:    dotnet run --project samples/csharp/Tutorials -- VERB [ARGS]   (from the repository root)
//   train     [OUT_DIR]                  train SimpleNN(10, 5, 1), print its parameters as torch and numpy do, save simple_nn_model.pth
//   load      [FIXTURES]                 MyModel loaded from .pth, .safetensors and .npz; named parameters printed
//   statedict [FIXTURES] [OUT_DIR]       state_dict listing, zero_() under no_grad, .npz, histogram, names by pattern
//   whole     [FIXTURES]                 PolynomialRegression from a whole-model torch.save; modules() filtered by type
//   fpga      [FIXTURES] [OUT_DIR] [Qm.n]  a slice reshaped to a column, GRU gates split, fixed-point .mem files
//   keras     MODEL.h5 INPUT.npy         a Keras model loaded into its TorchSharp twin; counts, size, forward output
// FIXTURES defaults to tests/fixtures/torchsharp-tutorials, OUT_DIR to artifacts/samples/tutorials (git-ignored).
using Tutorials;

const string Fixtures = "tests/fixtures/torchsharp-tutorials";
string OutDir(int i) => args.Length > i ? args[i] : Path.Combine("artifacts", "samples", "tutorials");
string FixturesDir(int i) => args.Length > i ? args[i] : Fixtures;

switch (args.FirstOrDefault())
{
    case "train": return TrainAndPrint.Run(OutDir(1));
    case "load": return LoadAndExtract.Run(FixturesDir(1));
    case "statedict": return StateDictSteps.Run(FixturesDir(1), OutDir(2));
    case "whole": return WholeModel.Run(FixturesDir(1));
    case "fpga": return Fpga.Run(FixturesDir(1), OutDir(2), args.Length > 3 ? args[3] : "Q3.12");
    case "keras" when args.Length == 3: return KerasIntoTorchSharp.Run(args[1], args[2]);
    default:
        Console.Error.WriteLine("usage: Tutorials train|load|statedict|whole|fpga|keras [ARGS] (see the top of Program.cs)");
        return 2;
}
