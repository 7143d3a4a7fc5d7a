//! `sessiontrail service install|uninstall`: the shipped systemd unit and launchd agent,
//! filled in with this binary, the store and the watch arguments (checked before anything
//! is written), written idempotently and removed.

use crate::util::*;

#[test]
fn the_systemd_unit_runs_watch_with_the_arguments_given() {
    let env = TestEnv::new();
    let xdg = env.path("config");
    let mut c = env.cmd(&[
        "service",
        "install",
        "--platform",
        "systemd",
        "--no-start",
        "--",
        "--endpoint",
        "http://collector:4317",
        "--protocol",
        "grpc",
        "--idle-timeout",
        "5m",
    ]);
    c.env("XDG_CONFIG_HOME", &xdg);
    let text = stdout(&env.run_cmd(c, 0));
    let unit = xdg.join("systemd/user/sessiontrail-watch.service");
    assert!(
        text.contains(&format!("wrote {}", unit.display())),
        "{text}"
    );
    let body = std::fs::read_to_string(&unit).unwrap();
    let exec = body.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    let bin = env!("CARGO_BIN_EXE_sessiontrail");
    assert_eq!(
        exec,
        format!(
            "ExecStart=\"{bin}\" \"--store\" \"{}\" \"watch\" \"--endpoint\" \"http://collector:4317\" \"--protocol\" \"grpc\" \"--idle-timeout\" \"5m\"",
            env.store.display()
        )
    );
    assert!(body.contains("EnvironmentFile=-%h/.config/sessiontrail/watch.env"));
    assert!(body.contains("WantedBy=default.target"));
    // The unit systemd would run is a command this binary accepts.
    let words: Vec<String> = exec["ExecStart=".len()..]
        .split("\" \"")
        .map(|w| w.trim_matches('"').to_owned())
        .collect();
    let o = std::process::Command::new(&words[0])
        .args(&words[1..])
        .arg("--help")
        .output()
        .unwrap();
    assert!(o.status.success());
    // And systemd reads it without a complaint, where systemd is installed.
    if let Ok(o) = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
    {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success() && err.trim().is_empty(), "{err}");
    }

    // Again: nothing changes.
    let mut c = env.cmd(&[
        "service",
        "install",
        "--platform",
        "systemd",
        "--no-start",
        "--",
        "--endpoint",
        "http://collector:4317",
        "--protocol",
        "grpc",
        "--idle-timeout",
        "5m",
    ]);
    c.env("XDG_CONFIG_HOME", &xdg);
    assert!(stdout(&env.run_cmd(c, 0)).starts_with("unchanged:"));

    // A typo is refused before anything is written.
    let mut c = env.cmd(&[
        "service",
        "install",
        "--platform",
        "systemd",
        "--no-start",
        "--",
        "--idle-timeot",
        "5m",
    ]);
    c.env("XDG_CONFIG_HOME", &xdg);
    let o = env.run_cmd(c, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--idle-timeot"));
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), body);

    let mut c = env.cmd(&[
        "service",
        "uninstall",
        "--platform",
        "systemd",
        "--no-start",
    ]);
    c.env("XDG_CONFIG_HOME", &xdg);
    assert!(stdout(&env.run_cmd(c, 0)).contains("removed"));
    assert!(!unit.exists());
}

#[test]
fn the_launchd_agent_is_a_valid_property_list() {
    let env = TestEnv::new();
    let o = env.run(
        &[
            "service",
            "install",
            "--platform",
            "launchd",
            "--no-start",
            "--",
            "--json",
        ],
        0,
    );
    assert!(stdout(&o).contains("dev.sessiontrail.watch.plist"));
    let plist = env.path("home/Library/LaunchAgents/dev.sessiontrail.watch.plist");
    // Python's plistlib reads it as launchd would.
    let o = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))",
        ])
        .arg(&plist)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["Label"], "dev.sessiontrail.watch");
    let args: Vec<&str> = v["ProgramArguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], env!("CARGO_BIN_EXE_sessiontrail"));
    assert_eq!(&args[args.len() - 2..], ["watch", "--json"]);
    assert_eq!(v["KeepAlive"]["SuccessfulExit"], false);
    env.run(
        &[
            "service",
            "uninstall",
            "--platform",
            "launchd",
            "--no-start",
        ],
        0,
    );
    assert!(!plist.exists());
}
