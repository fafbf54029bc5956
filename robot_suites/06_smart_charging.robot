*** Settings ***
Documentation       Smart Charging (SC1-SC3; OCPP 1.6 §3.13, 2.0.1 K01, K08, K10): charging
...                 profiles set, stacked, reported and cleared. The lab predicts every answer and
...                 every limit from the specification, and verifies each limit three ways within
...                 smart_charging.reaction_time_s: the current the reference meter and the
...                 analyser measure, the pilot's duty cycle read by the EV simulator, and the
...                 station's own readings (1.6 MeterValues, 2.0.1 TransactionEvent Updated).
...                 Test schedules change every smart_charging.period_s.
Library             hil.robot.HilLab
Resource            resources/sessions.resource
Suite Setup         Prepare Station For Sessions
Test Setup          Prepare Smart Charging Step
Test Tags           profile:SmartCharging    requires:smart_charging
...                 requires:ev    requires:identification

*** Test Cases ***
Send 2 Charging Profiles & Validate Metervalues
    [Documentation]    During a session: a TxDefaultProfile at stack level 0 (20 A), one at stack
    ...    level 1 in W (6900 W, 11040 W = 10 A, 16 A on three phases at 230 V) valid for two
    ...    periods, and a ChargePointMaxProfile (32, 32, 14, 32 A). The higher stack wins while
    ...    valid, the maximum caps it: 10, 16, 14, 20 A. GetCompositeSchedule returns exactly that,
    ...    and at every period boundary the pilot, the measured current and MeterValues follow.
    [Tags]    step:SC1
    Start Charging Session
    Set Charging Profile    TxDefaultProfile    connector=1    stack_level=0    limits=20    start_in=1
    Set Charging Profile    TxDefaultProfile    connector=1    stack_level=1    limits=6900, 11040
    ...    unit=W    start_in=1    duration=2 periods
    Set Charging Profile    ChargePointMaxProfile    connector=0    limits=32, 32, 14, 32    start_in=1
    Composite Schedule Should Be As Predicted    connector=1
    Charging Limit Should Follow The Schedule    periods=4

Verify TxDefaultProfiles
    [Documentation]    A TxProfile without a transaction is Rejected. A TxDefaultProfile on
    ...    connector 0 applies to every connector and a running session takes it at once. A daily
    ...    recurring TxDefaultProfile at a higher stack level changes the limit at its time of day.
    ...    Profiles survive a reboot: after a hard reset the composite is unchanged and the next
    ...    session is limited the same way.
    [Tags]    step:SC2
    Set Charging Profile    TxProfile    connector=1    limits=10
    Start Charging Session
    Set Charging Profile    TxDefaultProfile    connector=0    stack_level=0    limits=12
    Charging Limit Should Be Applied
    Composite Schedule Should Be As Predicted    connector=2
    ${period}=    Lab Setting    smart_charging.period_s
    Set Charging Profile    TxDefaultProfile    connector=0    stack_level=1    kind=Recurring
    ...    limits=8, 16    start_in=${period}
    Charging Limit Should Follow The Schedule    periods=3
    Stop Charging Session
    Reset Station    Hard
    Station Should Reboot
    Composite Schedule Should Be As Predicted    connector=1
    Start Charging Session
    Charging Limit Should Be Applied

Clear ChargingProfiles
    [Documentation]    Three profiles (TxDefaultProfile 10 A at stack 0 and 8 A at stack 1, a
    ...    ChargePointMaxProfile of 12 A) are cleared step by step: filters that match nothing →
    ...    Unknown; purpose AND stack level → only that one; by id; then all → the limit is released
    ...    on the output (back to the station's maximum), not just in the messages; then nothing
    ...    is left → Unknown.
    [Tags]    step:SC3
    Start Charging Session
    Set Charging Profile    TxDefaultProfile    connector=1    stack_level=0    limits=10    profile_id=301
    Set Charging Profile    TxDefaultProfile    connector=1    stack_level=1    limits=8    profile_id=302
    Set Charging Profile    ChargePointMaxProfile    connector=0    limits=12    profile_id=303
    Charging Limit Should Be Applied
    Clear Charging Profile    purpose=TxDefaultProfile    stack_level=5
    Clear Charging Profile    purpose=TxDefaultProfile    stack_level=1
    Charging Limit Should Be Applied
    Clear Charging Profile    profile_id=301
    Charging Limit Should Be Applied
    Composite Schedule Should Be As Predicted    connector=1
    Clear Charging Profile
    Charging Limit Should Be Released
    Clear Charging Profile
    Plot Current And Limit

*** Keywords ***
Prepare Smart Charging Step
    [Documentation]    The usual set-up, then no charging profile on the station: the lab's
    ...    predictions start from an empty station.
    Prepare Step
    Clear All Charging Profiles
