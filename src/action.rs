//! The action registry: every named thing a key can do.
//!
//! Keymap files name these actions; the help overlay and the command palette
//! are generated from this table. Adding an action means adding a variant and
//! one row in `ACTIONS`.

/// How careful the cockpit must be before running an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Danger {
    /// Reads or moves around; never touches a cluster.
    Safe,
    /// Changes a cluster; confirmed, refused in read-only mode, audited.
    Mutating,
}

/// Where a binding applies. Keys go to the open modal first, then to the
/// focused text input, then to the focused pane's own section (`[logs]`,
/// ...: keys that mean something only there), then to any focused pane
/// (`Table`), then `Global`. A pane's own section may reuse a key that other
/// panes leave to `Table` or `Global`; it wins only while that pane has focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyContext {
    Global,
    Table,
    Modal,
    Input,
    Workloads,
    Logs,
    Network,
    Forwards,
    Releases,
    Resources,
    View,
}

impl KeyContext {
    pub const ALL: [KeyContext; 11] = [
        KeyContext::Global,
        KeyContext::Table,
        KeyContext::Modal,
        KeyContext::Input,
        KeyContext::Workloads,
        KeyContext::Logs,
        KeyContext::Network,
        KeyContext::Forwards,
        KeyContext::Releases,
        KeyContext::Resources,
        KeyContext::View,
    ];

    /// The section name used in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::Table => "table",
            KeyContext::Modal => "modal",
            KeyContext::Input => "input",
            KeyContext::Workloads => "workloads",
            KeyContext::Logs => "logs",
            KeyContext::Network => "network",
            KeyContext::Forwards => "forwards",
            KeyContext::Releases => "releases",
            KeyContext::Resources => "resources",
            KeyContext::View => "view",
        }
    }

    pub fn from_name(name: &str) -> Option<KeyContext> {
        KeyContext::ALL.into_iter().find(|c| c.name() == name)
    }
}

macro_rules! actions {
    ($( $variant:ident = $name:literal, $danger:ident, $help:literal; )*) => {
        /// A named action. `Action::from_name` parses keymap files.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $( $variant, )* }

        /// One row of the registry.
        #[derive(Debug, Clone, Copy)]
        pub struct ActionSpec {
            pub action: Action,
            pub name: &'static str,
            pub help: &'static str,
            pub danger: Danger,
        }

        /// Every action, in help order.
        pub const ACTIONS: &[ActionSpec] = &[
            $( ActionSpec { action: Action::$variant, name: $name, help: $help, danger: Danger::$danger }, )*
        ];
    };
}

actions! {
    Quit = "quit", Safe, "Quit pitwall";
    Help = "help", Safe, "Show the key bindings of the active keymap";
    Palette = "palette", Safe, "Open the command palette";
    FocusNext = "focus_next", Safe, "Focus the next pane";
    FocusPrev = "focus_prev", Safe, "Focus the previous pane";
    Up = "up", Safe, "Move the selection up";
    Down = "down", Safe, "Move the selection down";
    PageUp = "page_up", Safe, "Move the selection up one page";
    PageDown = "page_down", Safe, "Move the selection down one page";
    Top = "top", Safe, "Jump to the first row";
    Bottom = "bottom", Safe, "Jump to the last row";
    Filter = "filter", Safe, "Fuzzy-filter rows (name, namespace, node, owner)";
    ClearFilter = "clear_filter", Safe, "Clear the filter and scopes";
    SortNext = "sort_next", Safe, "Sort by the next column";
    SortPrev = "sort_prev", Safe, "Sort by the previous column";
    SortReverse = "sort_reverse", Safe, "Reverse the sort order";
    ScopeRegion = "scope_region", Safe, "Cycle the region scope (all, then each region)";
    ScopeNamespace = "scope_namespace", Safe, "Cycle the namespace scope";
    ProblemsOnly = "problems_only", Safe, "Show only pods that are not healthy";
    NextProblem = "next_problem", Safe, "Jump to the next problem pod";
    Describe = "describe", Safe, "Describe the selected object as kubectl describe does, with its events";
    Yaml = "yaml", Safe, "Show the selected object as YAML (read-only)";
    SearchNext = "search_next", Safe, "Jump to the next match of the search";
    SearchPrev = "search_prev", Safe, "Jump to the previous match of the search";
    Select = "select", Safe, "Open the selected item";
    Back = "back", Safe, "Close the overlay or go back";
    Confirm = "confirm", Safe, "Confirm the open dialog";
    Cancel = "cancel", Safe, "Cancel the open dialog or input";
    Submit = "submit", Safe, "Submit the text input";
    Complete = "complete", Safe, "Complete the text input";
    Refresh = "refresh", Safe, "Redraw the whole screen";
    ShowTriage = "show_triage", Safe, "Show the triage pane";
    ShowPods = "show_pods", Safe, "Show the pods pane";
    ShowProbes = "show_probes", Safe, "Show the probe failures pane";
    ShowWorkloads = "show_workloads", Safe, "Show the workloads pane (Deployments and StatefulSets)";
    RolloutStatus = "rollout_status", Safe, "Follow the selected workload's rollout, as kubectl rollout status";
    ShowResources = "show_resources", Safe, "Show the resources pane (any kind in every region: type : and a resource)";
    Scale = "scale", Mutating, "Scale the selected Deployment or StatefulSet";
    RolloutRestart = "rollout_restart", Mutating, "Restart every pod of the selected workload, as kubectl rollout restart";
    RolloutPause = "rollout_pause", Mutating, "Pause the selected Deployment's rollout";
    RolloutResume = "rollout_resume", Mutating, "Resume the selected Deployment's rollout";
    RolloutUndo = "rollout_undo", Mutating, "Roll the selected Deployment back to a chosen revision";
    DeletePod = "delete_pod", Mutating, "Delete the selected pod, with its grace period";
    ShowReleases = "show_releases", Safe, "Show the releases pane (timeline, release matrix, promotions)";
    Timeline = "timeline", Safe, "Open the release timeline of the selected workload at the selection's time";
    Promote = "promote", Mutating, "Promote the selected Deployment's image from the first stage to the next ones, in waves with gates";
    ReleasesAxis = "releases_axis", Safe, "Timeline: the next time axis (1h, 6h, 24h, 7d)";
    ReleasesView = "releases_view", Safe, "Releases: switch between the timeline and the release matrix";
    MarkerPrev = "marker_prev", Safe, "Timeline: the previous marker";
    MarkerNext = "marker_next", Safe, "Timeline: the next marker";
    PromotionAbort = "promotion_abort", Safe, "Abort the workload's promotion (sends nothing more)";
    Exec = "exec", Mutating, "Open a shell or run a command in a container of the selected pod";
    PortForward = "port_forward", Mutating, "Forward a local port to the selected pod, its workload or a Service";
    ShowForwards = "show_forwards", Safe, "Show the port-forwards pane";
    StopForward = "stop_forward", Safe, "Stop the selected port-forward";
    StopAllForwards = "stop_all_forwards", Safe, "Stop every port-forward";
    ShowLogs = "show_logs", Safe, "Show the logs pane";
    Logs = "logs", Safe, "Follow the logs of the selected pod, workload, triage item or probe row (in the logs pane: type what to follow)";
    LogsFollow = "logs_follow", Safe, "Pause or follow the newest log lines";
    LogsWrap = "logs_wrap", Safe, "Wrap long log lines";
    LogsTimestamps = "logs_timestamps", Safe, "Show or hide the log lines' timestamps";
    LogsInclude = "logs_include", Safe, "Show only log lines matching a regex";
    LogsExclude = "logs_exclude", Safe, "Hide log lines matching a regex";
    LogsLevel = "logs_level", Safe, "Show only log lines at or above a level";
    LogsField = "logs_field", Safe, "Show only log lines whose field equals a value (field=value)";
    LogsHighlight = "logs_highlight", Safe, "Highlight log lines matching a regex";
    LogsSave = "logs_save", Safe, "Save the shown log lines to a file (0600)";
    LogsSaveAll = "logs_save_all", Safe, "Save the whole log buffer to a file (0600)";
    LogsHistory = "logs_history", Safe, "Read the selection's history from each region's Elasticsearch";
    LogsAllRegions = "logs_all_regions", Safe, "Follow the same workload in every region, or only in its own";
    LogsContainers = "logs_containers", Safe, "Choose the containers followed (init containers included)";
    LogsPrevious = "logs_previous", Safe, "Read the previous instance of each container instead";
    LogsClose = "logs_close", Safe, "Stop following and close the logs pane";
    ShowNetwork = "show_network", Safe, "Show the network pane (conntrack per node, LVS)";
    NetworkView = "network_view", Safe, "Switch the network pane between conntrack per node and LVS";
    NodeConntrack = "node_conntrack", Safe, "Show the conntrack of the selected pod's node";
}

impl Action {
    pub fn spec(self) -> &'static ActionSpec {
        // ACTIONS is generated in variant order, so the discriminant indexes it.
        &ACTIONS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn help(self) -> &'static str {
        self.spec().help
    }

    pub fn danger(self) -> Danger {
        self.spec().danger
    }

    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS.iter().find(|a| a.name == name).map(|a| a.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_indexed_by_variant_and_names_are_unique() {
        for (i, spec) in ACTIONS.iter().enumerate() {
            assert_eq!(spec.action as usize, i);
            assert_eq!(Action::from_name(spec.name), Some(spec.action));
            assert!(!spec.help.is_empty());
        }
        let mut names: Vec<_> = ACTIONS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACTIONS.len());
    }
}
