package pack

import (
	"fmt"
	"time"
)

// CRDPolicy is the crds: block of Pack.yaml, as upstream defines it. Every field is optional;
// a missing block or field means the default.
//
//	crds:
//	  install: true          # install the CRDs of crds/ (true)
//	  upgrade:
//	    enabled: true        # update CRDs that exist already (true)
//	    strategy: safe       # safe (refuse removing a served version or a field custom resources use) | force | skip
//	  uninstall:
//	    keep: true           # CRDs of crds/ are never deleted, not even with --delete-crds (true)
//	  waitReady: true        # wait until each CRD is Established before its custom resources (true)
//	  waitTimeout: 60s       # how long to wait for that (60s)
type CRDPolicy struct {
	Install   *bool        `yaml:"install,omitempty" json:"install,omitempty"`
	Upgrade   CRDUpgrade   `yaml:"upgrade,omitempty" json:"upgrade,omitempty"`
	Uninstall CRDUninstall `yaml:"uninstall,omitempty" json:"uninstall,omitempty"`
	WaitReady *bool        `yaml:"waitReady,omitempty" json:"waitReady,omitempty"`
	// WaitTimeout is a duration (60s, 2m, 1m30s).
	WaitTimeout string `yaml:"waitTimeout,omitempty" json:"waitTimeout,omitempty"`
}

// CRDUpgrade is crds.upgrade.
type CRDUpgrade struct {
	Enabled  *bool  `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	Strategy string `yaml:"strategy,omitempty" json:"strategy,omitempty"`
}

// CRDUninstall is crds.uninstall.
type CRDUninstall struct {
	Keep *bool `yaml:"keep,omitempty" json:"keep,omitempty"`
}

// CRD upgrade strategies.
const (
	CRDStrategySafe  = "safe"
	CRDStrategyForce = "force"
	CRDStrategySkip  = "skip"
)

func orTrue(b *bool) bool { return b == nil || *b }

// InstallCRDs: crds.install (default true).
func (p *CRDPolicy) InstallCRDs() bool { return p == nil || orTrue(p.Install) }

// UpgradeCRDs: crds.upgrade.enabled (default true) and a strategy other than skip.
func (p *CRDPolicy) UpgradeCRDs() bool {
	return p == nil || (orTrue(p.Upgrade.Enabled) && p.Upgrade.Strategy != CRDStrategySkip)
}

// Strategy: crds.upgrade.strategy (default safe).
func (p *CRDPolicy) Strategy() string {
	if p == nil || p.Upgrade.Strategy == "" {
		return CRDStrategySafe
	}
	return p.Upgrade.Strategy
}

// KeepOnUninstall: crds.uninstall.keep (default true).
func (p *CRDPolicy) KeepOnUninstall() bool { return p == nil || orTrue(p.Uninstall.Keep) }

// AwaitReady: crds.waitReady (default true).
func (p *CRDPolicy) AwaitReady() bool { return p == nil || orTrue(p.WaitReady) }

// Timeout: crds.waitTimeout (default 60s).
func (p *CRDPolicy) Timeout() time.Duration {
	if p == nil || p.WaitTimeout == "" {
		return 60 * time.Second
	}
	d, err := time.ParseDuration(p.WaitTimeout)
	if err != nil {
		return 60 * time.Second
	}
	return d
}

// Validate refuses an unknown strategy or a timeout that is not a duration.
func (p *CRDPolicy) Validate() error {
	if p == nil {
		return nil
	}
	switch p.Upgrade.Strategy {
	case "", CRDStrategySafe, CRDStrategyForce, CRDStrategySkip:
	default:
		return fmt.Errorf("crds.upgrade.strategy %q: must be safe, force or skip", p.Upgrade.Strategy)
	}
	if p.WaitTimeout != "" {
		if d, err := time.ParseDuration(p.WaitTimeout); err != nil || d <= 0 {
			return fmt.Errorf("crds.waitTimeout %q: must be a positive duration like 60s or 2m", p.WaitTimeout)
		}
	}
	return nil
}
