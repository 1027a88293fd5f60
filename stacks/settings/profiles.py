"""Environment profiles: the defaults a `Pulumi.<env>.yaml` starts from.

The model's own defaults are the safe, highly available ones (what prod runs). A profile only
lists what it relaxes to save cost, so each stack file holds only what differs from its profile.
Keys are written as in stack config (camelCase).
"""

from __future__ import annotations

from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {
        "protectStatefulResources": False,
        "network": {"azCount": 2, "natStrategy": "single", "interfaceEndpoints": False},
        "logging": {"retentionDays": 30},
        "cluster": {
            "systemNodes": {
                "instanceTypes": ["t3.medium"],
                "minSize": 1,
                "desiredSize": 1,
                "maxSize": 2,
            },
            "appNodes": {
                "instanceTypes": ["t3.large"],
                "minSize": 1,
                "desiredSize": 1,
                "maxSize": 3,
            },
        },
        "database": {
            "instanceClass": "db.t4g.small",
            "multiAz": False,
            "readReplicas": 0,
            "allocatedStorageGib": 20,
            "maxAllocatedStorageGib": 100,
            "backupRetentionDays": 1,
            "deletionProtection": False,
        },
        "cache": {"nodeType": "cache.t4g.micro", "nodes": 1, "snapshotRetentionDays": 1},
        "storage": {"noncurrentVersionExpirationDays": 7},
        "backup": {
            "dailyRetentionDays": 7,
            "monthlyRetentionDays": 0,
            "vaultLock": "governance",
            "crossRegionCopy": False,
            "restoreTesting": False,
        },
        "alarms": {
            "thresholds": {
                "databaseCpuPercent": 90,
                "databaseFreeStorageGib": 2,
                "databaseFreeableMemoryMib": 128,
                "replicaLagSeconds": 600,
                "cacheMemoryPercent": 90,
                "cacheConnections": 500,
                "loadBalancerErrors": 50,
                "targetErrors": 100,
                "latencyP99Ms": 5000,
                "nodeCpuPercent": 90,
                "nodeMemoryPercent": 90,
            }
        },
        "waf": {"enabled": False},
        "app": {
            "capacity": {
                "peakRequestsPerSecond": 20,
                "minServerPods": 1,
                "minWorkerPods": 1,
                "maxWorkerPods": 2,
            }
        },
    },
    "staging": {
        "protectStatefulResources": False,
        "network": {"natStrategy": "single"},
        "logging": {"retentionDays": 90},
        "cluster": {
            "systemNodes": {
                "instanceTypes": ["t3.large"],
                "minSize": 2,
                "desiredSize": 2,
                "maxSize": 4,
            },
            "appNodes": {
                "instanceTypes": ["m7i.large"],
                "minSize": 2,
                "desiredSize": 2,
                "maxSize": 6,
            },
        },
        "database": {
            "instanceClass": "db.t4g.medium",
            "readReplicas": 1,
            "allocatedStorageGib": 20,
            "maxAllocatedStorageGib": 200,
            "backupRetentionDays": 7,
            "deletionProtection": False,
        },
        "cache": {"nodeType": "cache.t4g.small", "snapshotRetentionDays": 1},
        "storage": {"noncurrentVersionExpirationDays": 30},
        "backup": {
            "dailyRetentionDays": 14,
            "monthlyRetentionDays": 0,
            "vaultLock": "governance",
            "crossRegionCopy": False,
        },
        "alarms": {
            "thresholds": {
                "databaseFreeStorageGib": 2,
                "databaseFreeableMemoryMib": 256,
                "replicaLagSeconds": 300,
                "loadBalancerErrors": 25,
                "targetErrors": 50,
                "latencyP99Ms": 3000,
            }
        },
        "waf": {"countOnly": True},
        "app": {
            "capacity": {
                "peakRequestsPerSecond": 30,
                "minServerPods": 2,
                "minWorkerPods": 1,
                "maxWorkerPods": 3,
            }
        },
    },
    "prod": {},
}
