"""Ground truth for basalt-slayer's LearningStats (slayer's utils.stats). Usage (oracle venv):
python tools/oracle/slayer_stats.py OUT_DIR

Three epochs of training, validation and testing batches (samples, mean loss, correct), the
second best on validation (slayer fails when a set has samples in some epochs only). Writes `str(stats)` before and after each epoch's update into `display.txt` (one per
line) and slayer's own `stats.save(OUT_DIR/)` files `loss.txt` and `accuracy.txt`."""
import os, sys
from lava.lib.dl import slayer

out = sys.argv[1]
stats = slayer.utils.LearningStats()
epochs = [
    ([(32, 2.5, 10), (32, 2.0, 14), (16, 1.75, 9)], [(20, 2.0, 8)], [(40, 2.25, 15)]),
    ([(32, 1.5, 20), (32, 1.25, 22), (16, 1.0, 12)], [(20, 1.5, 11)], [(40, 1.375, 25)]),
    ([(32, 1.125, 25), (32, 1.0, 26), (16, 1.5, 10)], [(20, 1.625, 10)], [(40, 1.0625, 30)]),
]
lines = []
for train, valid, test in epochs:
    for stat, batches in [(stats.training, train), (stats.validation, valid), (stats.testing, test)]:
        for n, loss, correct in batches:
            stat.num_samples += n
            stat.loss_sum += loss * n
            stat.correct_samples += correct
    lines.append(str(stats))
    stats.update()
    lines.append(str(stats))
with open(os.path.join(out, "display.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
stats.save(out + "/")
print("\n".join(lines))
