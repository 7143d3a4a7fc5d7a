use std::path::PathBuf;
fn main() {
    let roots: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let d = sessiontrail_sources::discover(&roots, sessiontrail_sources::DEFAULT_MAX_LINE_BYTES);
    for i in &d.issues {
        println!("ISSUE {i}");
    }
    for f in &d.sessions {
        let (s, r) = sessiontrail_sources::parse_session(f, &Default::default());
        let Some(s) = s else {
            println!("{} no session", f.session_id);
            continue;
        };
        let u = s.total_usage();
        println!(
            "{} files={} runs={} turns={} calls={} tools={} events={} usage={:?} fail={} dup={} issues={}",
            s.id,
            f.files.len(),
            s.runs.len(),
            s.turns.len(),
            s.calls.len(),
            s.tools.len(),
            s.events.len(),
            u,
            s.failed_tool_calls(),
            r.duplicates,
            r.issues.len()
        );
        for run in &s.runs {
            println!(
                "   run {} {:?} parent_tool={:?} parent_turn={:?} {}..{} rec={} {:?}",
                run.key,
                run.agent_type,
                run.parent_tool.map(|t| &s.tools[t].id),
                run.parent_turn,
                run.start,
                run.end,
                run.records,
                run.reported
            );
        }
        println!("   unmapped {:?}", r.unmapped);
        println!("   events {:?}", r.events);
        let mut oc = std::collections::BTreeMap::new();
        for t in &s.tools {
            *oc.entry(t.outcome.as_str()).or_insert(0) += 1;
        }
        println!("   outcomes {:?}", oc);
    }
}
