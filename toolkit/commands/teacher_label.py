"""Write the teacher's raw logits for the unlabeled transfer set (resumable, shardable).

Use the same data arguments and seed as 'teacher train' and 'student', so all three draw the
same texts. Logits go to DIR/logits/ (float32, one row per text, keyed by text id). Finished
chunks are written atomically: after a crash or kill -9, rerun the same command and only the
missing chunks are computed. An unsharded run merges into DIR/logits/logits.npz at the end.

backends:
  --backend torch  --teacher DIR/teacher         the saved PyTorch model (uses a GPU if present)
  --backend onnx   --teacher DIR/teacher.int8.onnx   the exported model; on a CPU the int8 file
                                                     is the fast way, with the same labels

running across processes, GPUs or machines (--shard I/N labels the texts whose id hashes to I
mod N; --shard auto reads RANK/WORLD_SIZE or the Slurm array variables):
  torchrun --nproc-per-node 4 -m edge_distill.toolkit.cli teacher label --teacher R/teacher --data D \\
      --unlabeled 50000 --out R --shard auto
  accelerate launch --num_processes 4 -m edge_distill.toolkit.cli teacher label ... --shard auto
  # Slurm array, 8 tasks:  #SBATCH --array=0-7
  srun edge-distill teacher label ... --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT
  # then, once every shard is done:
  edge-distill teacher merge R
"""

from __future__ import annotations

import argparse

from edge_distill.toolkit.arguments import out_folder
from edge_distill.toolkit.commands.common import add_json, emit
from edge_distill.toolkit.options import LabelOptions, add_data_arguments, data_options
from edge_distill.toolkit.settings import add_arguments as add_fields
from edge_distill.toolkit.settings import from_args

HELP = "write teacher logits for the unlabeled transfer set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Teacher, data, sharding and resume settings."""
    p.add_argument(
        "--teacher",
        required=True,
        metavar="PATH",
        help="DIR/teacher (torch backend) or a teacher .onnx file (onnx backend)",
    )
    add_data_arguments(p, unlabeled=None)
    p.add_argument("--out", type=out_folder, required=True, metavar="DIR", help="run folder; logits go to DIR/logits/")
    add_fields(p, LabelOptions)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    add_json(p)


def run(args: argparse.Namespace) -> int:
    """Label this shard of the transfer set."""
    from edge_distill.toolkit.api import label_transfer_set, load_data  # the 'train' extra

    options = from_args(LabelOptions, args)
    result = label_transfer_set(args.teacher, load_data(data_options(args)), args.out, options)
    human = f"labeled {result.texts} texts ({result.shard}, {result.resumed_texts} resumed)"
    if result.merged:
        human += f"; merged {result.merged_texts} texts into {result.merged}"
    emit(args, result, human)
    return 0
