//! `basalt`: the command-line entry point. Without arguments it runs its embedded default
//! job: Lava's walkthrough network in float and in bit-accurate fixed point, printing the
//! spikes and voltages Lava prints for it and the simulation speed.

use std::process::ExitCode;

use basalt::display::numpy_str;
use basalt::walkthrough::{first_spikes, run, Precision};

const USAGE: &str = "usage: basalt [walkthrough] [--steps N] [--precision float|fixed|both]
       basalt info NET.net
       basalt convert IN.net|IN.nir|IN.basalt OUT.net|OUT.nir [--dt SECONDS]
       basalt run NET.net --input X.npy --steps T --out OUT.npz [...]   (basalt run --help)
       basalt run MODEL.nir --input X.npy --steps T --out OUT.npz [--dt SECONDS]

Runs Lava's walkthrough network (LIF(3) -> Dense(2x3) -> LIF(2)) for N steps (default 100)
and prints what Lava prints for it: spike counts, first spike steps and the voltages of the
first steps. Exits non-zero with a message on bad arguments.";

struct Args {
    steps: usize,
    precisions: Vec<Precision>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args { steps: 100, precisions: vec![Precision::Float, Precision::Fixed] };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "walkthrough" => {}
            "-h" | "--help" => return Err(String::new()),
            "--steps" => {
                let v = it.next().ok_or("--steps needs a value")?;
                out.steps = v.parse().map_err(|_| format!("--steps: `{v}` is not a positive integer"))?;
                if out.steps == 0 {
                    return Err("--steps must be at least 1".into());
                }
            }
            "--precision" => {
                out.precisions = match it.next().map(String::as_str) {
                    Some("float") => vec![Precision::Float],
                    Some("fixed") => vec![Precision::Fixed],
                    Some("both") => vec![Precision::Float, Precision::Fixed],
                    other => return Err(format!("--precision must be float, fixed or both, got {other:?}")),
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let netx_command = match args.first().map(String::as_str) {
        Some("info") => Some(basalt::cli_netx::info(&args[1..])),
        Some("convert") => Some(basalt::cli_nir::convert(&args[1..])),
        Some("run") if args.iter().any(|a| a == "-h" || a == "--help") => {
            println!("{}\n\n{}", basalt::cli_netx::RUN_USAGE, basalt::cli_nir::RUN_NIR_USAGE);
            return ExitCode::SUCCESS;
        }
        Some("run") if basalt::cli_nir::is_nir_run(&args[1..]) => Some(basalt::cli_nir::run(&args[1..])),
        Some("run") => basalt::cli_netx::run(&args[1..]).map(Some).transpose(),
        _ => None,
    };
    if let Some(result) = netx_command {
        return match result {
            Ok(text) => {
                println!("{}", text.trim_end());
                ExitCode::SUCCESS
            }
            Err(msg) => {
                eprintln!("basalt: {msg}");
                ExitCode::from(2)
            }
        };
    }
    let args = match parse(&args) {
        Ok(a) => a,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("basalt: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    for p in args.precisions {
        match run(p, args.steps) {
            Ok(r) => {
                println!(
                    "== walkthrough, {} precision ({}), {} steps",
                    p.name(),
                    p.run_config().select_tag.unwrap_or_default(),
                    args.steps
                );
                let show = args.steps.min(5);
                for proc in ["lif1", "lif2"] {
                    let v = &r.data[proc]["v"];
                    println!("{proc}.v, steps 1..={show}:");
                    println!("{}", numpy_str(&v.slice(ndarray::s![..show, ..]).to_owned().into_dyn()));
                    let s = &r.data[proc]["s_out"];
                    println!("{proc} spike counts: {}", numpy_str(&s.sum_axis(ndarray::Axis(0))));
                    println!("{proc} first spike steps (1-based): {:?}", first_spikes(s, 5));
                }
                let secs = r.run_time.as_secs_f64();
                println!(
                    "ran {} steps in {:.3} ms ({:.0} steps/s)\n",
                    args.steps,
                    secs * 1e3,
                    args.steps as f64 / secs
                );
            }
            Err(e) => {
                eprintln!("basalt: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
