*** Settings ***
Documentation       Resets (steps 9-12): hard and soft, with and without a charging session.
...                 A reset during a session must end it with the right reason, exactly once,
...                 and energy must stop while the station reboots.
Library             hil.robot.HilLab
Resource            resources/sessions.resource
Suite Setup         Prepare Station For Sessions
Test Tags           profile:Core

*** Test Cases ***
Hard Reset - During Charging Session
    [Documentation]    Reset Hard while charging → Accepted → energy stops → reboot with the boot
    ...    sequence → one StopTransaction with reason HardReset (before the reboot, or queued and
    ...    sent after the new BootNotification is accepted).
    [Tags]    step:9    requires:ev    requires:identification
    Start Charging Session
    Reset Station    Hard
    Energy Should Stop    after=the Hard reset
    Station Should Reboot
    Stop Transaction Should Be Reported Once    HardReset

Hard Reset - No Charging Session
    [Documentation]    Reset Hard while idle → Accepted → BootNotification → StatusNotification for
    ...    all (no Unavailable before the reboot is a remark). A connector made Inoperative first
    ...    is still Unavailable after the reboot.
    [Tags]    step:10
    Reset Station    Hard
    Unavailable Should Be Reported Before Reboot
    Station Should Reboot
    Change Availability    1    Inoperative    expect=Accepted
    Status Notification Should Arrive    1    Unavailable
    Reset Station    Hard
    Station Should Reboot
    Status After Boot Should Be    1    Unavailable
    Change Availability    1    Operative    expect=Accepted
    Status Notification Should Arrive    1    Available

Soft Reset - During Charging Session
    [Documentation]    Reset Soft while charging: the station stops the transaction gracefully,
    ...    StopTransaction with reason SoftReset comes before the restart; then as step 9.
    [Tags]    step:11    requires:ev    requires:identification
    Start Charging Session
    Reset Station    Soft
    Energy Should Stop    after=the Soft reset
    Station Should Reboot
    Stop Transaction Should Be Reported Once    SoftReset
    Stop Transaction Should Precede The Restart

Soft Reset - No Charging Session
    [Documentation]    Reset Soft while idle → Accepted → BootNotification → StatusNotifications.
    [Tags]    step:12
    Reset Station    Soft
    Station Should Reboot
