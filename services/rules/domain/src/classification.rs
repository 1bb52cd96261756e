//! How serious a rule is, by the two published tables: IMDRF "Software as a Medical Device:
//! Possible Framework for Risk Categorization and Corresponding Considerations" (2014, §7.2,
//! table of categories) and IEC 60601-1-8:2006+A1:2012 Table 1 (alarm condition priority).

/// IMDRF: the state of the healthcare situation or condition the software is used in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Situation {
    Critical,
    Serious,
    NonSerious,
}

/// IMDRF: the significance of the information the software provides to the healthcare decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Significance {
    TreatOrDiagnose,
    DriveClinicalManagement,
    InformClinicalManagement,
}

/// IMDRF SaMD category, I (lowest impact) to IV (highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    I,
    II,
    III,
    IV,
}

/// The IMDRF table: rows are situations, columns significance.
pub fn category(situation: Situation, significance: Significance) -> Category {
    use Category::{I, II, III, IV};
    use Significance::{
        DriveClinicalManagement as Drive, InformClinicalManagement as Inform,
        TreatOrDiagnose as Treat,
    };
    match (situation, significance) {
        (Situation::Critical, Treat) => IV,
        (Situation::Critical, Drive) => III,
        (Situation::Critical, Inform) => II,
        (Situation::Serious, Treat) => III,
        (Situation::Serious, Drive) => II,
        (Situation::Serious, Inform) => I,
        (Situation::NonSerious, Treat) => II,
        (Situation::NonSerious, Drive | Inform) => I,
    }
}

/// IEC 60601-1-8 Table 1: the potential result of failing to respond to the cause of the alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PotentialResult {
    DeathOrIrreversibleInjury,
    ReversibleInjury,
    MinorDiscomfortOrInjury,
}

/// IEC 60601-1-8 Table 1: how fast harm can develop — immediate (no time for manual
/// correction), prompt (within minutes) or delayed (longer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Onset {
    Immediate,
    Prompt,
    Delayed,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Low,
    Medium,
    High,
}

/// Table 1 of IEC 60601-1-8. (For minor discomfort with delayed onset the standard allows low
/// priority or no alarm signal; Sentinel raises a low-priority alert, never none.)
pub fn priority(result: PotentialResult, onset: Onset) -> Priority {
    use PotentialResult::{
        DeathOrIrreversibleInjury as Death, MinorDiscomfortOrInjury as Minor,
        ReversibleInjury as Reversible,
    };
    match (result, onset) {
        (Death, Onset::Immediate | Onset::Prompt) | (Reversible, Onset::Immediate) => {
            Priority::High
        }
        (Death, Onset::Delayed) | (Reversible, Onset::Prompt) | (Minor, Onset::Immediate) => {
            Priority::Medium
        }
        (Reversible, Onset::Delayed) | (Minor, Onset::Prompt | Onset::Delayed) => Priority::Low,
    }
}

impl Priority {
    /// One step up, for escalation of an unacknowledged alert; high stays high.
    pub fn escalated(self) -> Priority {
        match self {
            Priority::Low => Priority::Medium,
            Priority::Medium | Priority::High => Priority::High,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_imdrf_table() {
        use Significance::*;
        let rows = [
            (
                Situation::Critical,
                [Category::IV, Category::III, Category::II],
            ),
            (
                Situation::Serious,
                [Category::III, Category::II, Category::I],
            ),
            (
                Situation::NonSerious,
                [Category::II, Category::I, Category::I],
            ),
        ];
        for (situation, expected) in rows {
            let got = [
                TreatOrDiagnose,
                DriveClinicalManagement,
                InformClinicalManagement,
            ]
            .map(|s| category(situation, s));
            assert_eq!(got, expected, "{situation:?}");
        }
    }

    #[test]
    fn the_iec_60601_1_8_table() {
        use Onset::*;
        use PotentialResult::*;
        let rows = [
            (
                DeathOrIrreversibleInjury,
                [Priority::High, Priority::High, Priority::Medium],
            ),
            (
                ReversibleInjury,
                [Priority::High, Priority::Medium, Priority::Low],
            ),
            (
                MinorDiscomfortOrInjury,
                [Priority::Medium, Priority::Low, Priority::Low],
            ),
        ];
        for (result, expected) in rows {
            assert_eq!(
                [Immediate, Prompt, Delayed].map(|o| priority(result, o)),
                expected
            );
        }
        assert_eq!(Priority::Low.escalated(), Priority::Medium);
        assert_eq!(Priority::High.escalated(), Priority::High);
    }
}
